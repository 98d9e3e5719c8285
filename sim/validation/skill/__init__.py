"""Skill measured by rolling origin: the core, naive baselines, the model as a covariate, scores."""
