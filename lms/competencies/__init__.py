"""Competency frameworks: levels x functional areas, and the items in each cell."""
