"""Operations: each changes the models, writes its log row and commits once.

Views (pages and API alike) parse input, call one operation and render the result.
"""
