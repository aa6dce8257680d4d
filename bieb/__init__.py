"""Bieb: membership administration of Dutch public libraries and the national login service."""
