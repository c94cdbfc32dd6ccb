"""Policy pack tests: the pack driven over the Pulumi analyzer gRPC protocol."""
