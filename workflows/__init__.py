"""The nomination workflow and (later) the award rules, free of Flask.

Everything here can be imported, read and tested without an application:
``workflows.states`` names the states and their labels, ``workflows.machine``
holds the one transition table and the one ``transitions.Machine`` built from it.
"""
