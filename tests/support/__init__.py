"""Helpers and data shared by test modules (test modules never import each other)."""
