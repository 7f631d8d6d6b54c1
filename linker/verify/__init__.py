"""`linker verify`: offline checks of the view (`local`) and of the pins on the Hub (`remote`)."""
