// Package agents will hold the agent desktop: login and sessions, the
// agent WebSocket protocol and the screen pop (issue #3). Until then agents
// are managed, and drive their contacts' lifecycle, through the HTTP API
// (package api): PUT /api/v1/agents/{id}, PUT /api/v1/agents/{id}/state,
// and the accept, decline, wrapup, close and transfer actions on contacts.
package agents
