"""The synthetic demo raw folder: zones, their true series, the files and the errors injected."""
