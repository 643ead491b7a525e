"""lstmkit.training"""
