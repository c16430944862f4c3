"""Reader side: the support prompt, the embeddable banner, the form, checkout and thanks."""
