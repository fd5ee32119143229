"""Features of Cercle. Each cog plugs into the core through :class:`bot.cog.Cog`; the
composition root (:func:`bot.compose.default_cogs`) lists the ones the bot runs."""
