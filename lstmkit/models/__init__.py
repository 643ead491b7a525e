"""lstmkit.models"""
