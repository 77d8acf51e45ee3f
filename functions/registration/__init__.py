"""The registration function: at deploy time, subscribe the postback URL with CallFire."""
