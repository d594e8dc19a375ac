"""The demo's training projects: one module per experiment, each with its own story."""
