# spec/sandbox.rl — the lifecycle of a pod sandbox, as a Ragel state chart.
#
# This file is the single source of truth for which Sandbox API calls and
# world events are legal in which state, and which backend action each one
# runs.  tools/gen-lifecycle.py compiles it (with ragel) into
# gen/lifecycle/sandbox.{c,h} and draws docs/lifecycle/sandbox.svg.
#
# Conventions shared by every chart in spec/:
#  - events are one-byte symbols, numbered from 1;
#  - `action X { ACT(X); }` names the backend action a transition runs;
#  - `action in_S { TO(S); }` marks entry into state S and is attached to
#    each state with >~ so the generated code knows where it landed;
#  - a transition that runs an action always enters a transient state
#    (creating, starting, ...) which only Done or Failed leave: the journal
#    holds the intent while the object sits there, and recovery resolves it;
#  - a self-loop without an action is an idempotent no-op (Stop of a stopped
#    sandbox) and writes no journal row;
#  - `deleted` is final: the engine forgets the object in the same
#    transaction that reaches it, so a repeated Shutdown/Delete finds no
#    object and the API layer answers it (idempotently, as containerd expects);
#  - `start` (Ragel requires the name) is the pseudo-state of an object
#    that does not exist yet; the generated code calls it `absent`.
%%{
	machine sandbox;
	alphtype unsigned char;

	# Sandbox API calls
	Create   = 1;
	Start    = 2;
	Stop     = 3;
	Wait     = 4;
	Shutdown = 5;
	# world events
	Exit     = 6;   # the sandbox's process or VM ended by itself
	Lost     = 7;   # recovery found the sandbox's resources gone
	# outcome of the backend action
	Done     = 8;
	Failed   = 9;

	action create { ACT(create); }
	action start  { ACT(start); }
	action stop   { ACT(stop); }
	action delete { ACT(delete); }

	action in_creating { TO(creating); }
	action in_created  { TO(created); }
	action in_starting { TO(starting); }
	action in_ready    { TO(ready); }
	action in_stopping { TO(stopping); }
	action in_stopped  { TO(stopped); }
	action in_deleting { TO(deleting); }
	action in_deleted  { TO(deleted); }
	action in_failed   { TO(failed); }

	main := (
		start: (
			Create @create -> creating
		),
		creating: (
			Done -> created |
			Failed -> deleted           # a failed create leaves nothing
		) >~in_creating,
		created: (
			Start @start -> starting |
			Stop @stop -> stopping |
			Shutdown @delete -> deleting |
			Wait -> created |
			Lost -> stopped
		) >~in_created,
		starting: (
			Done -> ready |
			Failed -> created           # a failed start undoes itself
		) >~in_starting,
		ready: (
			Stop @stop -> stopping |
			Shutdown @delete -> deleting |
			Wait -> ready |
			Exit -> stopped |
			Lost -> stopped
		) >~in_ready,
		stopping: (
			Done -> stopped |
			Failed -> failed
		) >~in_stopping,
		stopped: (
			Stop -> stopped |
			Shutdown @delete -> deleting |
			Wait -> stopped
		) >~in_stopped,
		deleting: (
			Done -> deleted |
			Failed -> failed
		) >~in_deleting,
		failed: (
			Stop @stop -> stopping |
			Shutdown @delete -> deleting |
			Wait -> failed
		) >~in_failed,
		deleted: (
			zlen
		) >~in_deleted
	);
}%%
