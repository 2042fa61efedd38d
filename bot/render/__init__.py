"""The text Rolecall posts on GitHub, pure functions of what happened, inert by design."""
