"""Institutions (universities) and their departments (院系)."""
