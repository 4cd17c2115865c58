"""The WhatsApp channel, on the Cloud API."""
