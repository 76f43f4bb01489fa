"""descentlab's command line and the small utilities its stages share."""
