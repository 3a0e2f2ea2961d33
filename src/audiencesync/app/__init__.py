"""The application layer: one workspace per actor, the run service, view models."""
