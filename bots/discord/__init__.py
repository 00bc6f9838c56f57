"""The Discord adapter: slash commands in, ephemeral embeds with link buttons out."""
