"""kitgen: printable, structured interview kits for deep-learning roles."""

__version__ = "0.1.0"
