# spec/task.rl — the lifecycle of a container task (Task API), as a Ragel
# state chart.  Conventions: see spec/sandbox.rl.
%%{
	machine task;
	alphtype unsigned char;

	# Task API calls
	Create = 1;
	Start  = 2;
	Kill   = 3;
	Pause  = 4;
	Resume = 5;
	Update = 6;
	Delete = 7;
	# world events
	Exit   = 8;   # the container's init process exited
	Lost   = 9;   # recovery found the container gone, exit status unknown
	# outcome of the backend action
	Done   = 10;
	Failed = 11;

	action create { ACT(create); }
	action start  { ACT(start); }
	action kill   { ACT(kill); }
	action pause  { ACT(pause); }
	action resume { ACT(resume); }
	action update { ACT(update); }
	action delete { ACT(delete); }

	action in_creating { TO(creating); }
	action in_created  { TO(created); }
	action in_starting { TO(starting); }
	action in_running  { TO(running); }
	action in_pausing  { TO(pausing); }
	action in_paused   { TO(paused); }
	action in_resuming { TO(resuming); }
	action in_stopped  { TO(stopped); }
	action in_deleting { TO(deleting); }
	action in_deleted  { TO(deleted); }

	main := (
		start: (
			Create @create -> creating
		),
		creating: (
			Done -> created |
			Failed -> deleted
		) >~in_creating,
		created: (
			Start @start -> starting |
			Kill @kill -> created |
			Delete @delete -> deleting |
			Exit -> stopped |
			Lost -> stopped
		) >~in_created,
		starting: (
			Done -> running |
			Failed -> stopped           # the init process could not run
		) >~in_starting,
		running: (
			Kill @kill -> running |
			Pause @pause -> pausing |
			Update @update -> running |
			Exit -> stopped |
			Lost -> stopped
		) >~in_running,
		pausing: (
			Done -> paused |
			Failed -> running
		) >~in_pausing,
		paused: (
			Resume @resume -> resuming |
			Kill @kill -> paused |
			Update @update -> paused |
			Exit -> stopped |
			Lost -> stopped
		) >~in_paused,
		resuming: (
			Done -> running |
			Failed -> paused
		) >~in_resuming,
		stopped: (
			Delete @delete -> deleting
		) >~in_stopped,
		deleting: (
			Done -> deleted |
			Failed -> stopped
		) >~in_deleting,
		deleted: (
			zlen
		) >~in_deleted
	);
}%%
