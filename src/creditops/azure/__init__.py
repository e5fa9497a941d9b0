"""Azure ML as the scale-out target: render CLI v2 specs from an environment, submit them."""
