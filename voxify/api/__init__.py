"""FastAPI app: routers and dependencies, thin over the services."""
