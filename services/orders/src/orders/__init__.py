"""Orders: account profiles, the local catalog copy, service requests and subscriptions."""
