"""Hooks of the Adobe Experience Platform provider."""
