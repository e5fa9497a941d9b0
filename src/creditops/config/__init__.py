"""Configuration models, validated once at the edge."""
