"""Dataset versions: manifests, cards, composition, the report page, writing, diff, verify."""
