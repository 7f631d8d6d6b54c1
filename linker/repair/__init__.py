"""`linker repair`: plan fixes from verify's findings, then apply them."""
