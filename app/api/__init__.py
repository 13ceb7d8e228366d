"""The service edge: wire messages, WebSocket endpoints, REST routes, auth and the event hub."""
