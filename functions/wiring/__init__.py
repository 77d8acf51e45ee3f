"""Each function's service assembled from the environment the stack sets: the only place where
the services meet their AWS and HTTP adapters."""
