"""Deployment on a kiosk PC: releases side by side with rollback, installation into a root, the
service manager's notifications, and checks of the installed units."""
