"""The monitoring and evaluation reports of each round, HTML and xlsx."""
