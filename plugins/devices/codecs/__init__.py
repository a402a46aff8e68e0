"""Pure codecs (bytes in, bytes out, no I/O) for the protocols of box-office hardware."""
