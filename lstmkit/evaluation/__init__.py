"""lstmkit.evaluation"""
