"""Published studies re-analysed with the package (nothing generic imports this)."""
