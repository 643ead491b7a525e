"""lstmkit.data"""
