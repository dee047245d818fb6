"""The registry in the browser: server-rendered pages over the same selectors as the API."""
