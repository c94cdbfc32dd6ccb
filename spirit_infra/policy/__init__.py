"""Pure checks used by the CrossGuard policy pack, and a harness that drives a pack over gRPC."""
