"""One operator per Platform call of the onboarding tutorial."""
