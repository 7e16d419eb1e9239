"""Pydantic request and response bodies of the Platform calls the operators make."""
