"""Pure checks used by the CrossGuard policy pack, and the pack's offline runner (``runner``: starts a pack as
the Pulumi CLI does and drives it over the analyzer gRPC protocol; ``offline``: runs it on a preview)."""
