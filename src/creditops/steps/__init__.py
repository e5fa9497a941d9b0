"""The four modelling steps, each runnable alone with the original scripts' flags."""
