"""Reference data: the drug-precursor catalogue and the identifier checks alerts rely on."""
