"""The resident poller (daemon), its control socket, and the client a viewer dashboard uses."""
