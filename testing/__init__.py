"""slipway.testing: the mocks, recorder and assertions slipway's own tests use, for yours."""
