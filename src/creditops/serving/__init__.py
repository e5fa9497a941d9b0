"""The scoring service: request parsing, the ASGI app over a loaded model, metrics, the server."""
