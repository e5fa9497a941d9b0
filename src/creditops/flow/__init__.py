"""The deploy-code flow: PR validation and the release (gate, approval, promotion, rollback)."""
