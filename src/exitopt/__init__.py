"""exitopt: choose which industrial units retire, when and how, at least cost in jobs and money."""

__version__ = "0.1.0"
