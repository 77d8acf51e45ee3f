"""Small AWS adapters behind the ports that the functions' services declare."""
