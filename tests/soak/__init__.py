"""The load-and-fault suite (make soak); its short form runs in make test."""
