"""Version of nengo_lmu."""

version = "0.1.0.dev0"
