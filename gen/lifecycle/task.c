/* gen/lifecycle/task.c — GENERATED from spec/task.rl by tools/gen-lifecycle.py
 * (machine compiled by ragel -T0); do not edit. */


#include <stdbool.h>
#include "lifecycle/task.h"

#pragma GCC diagnostic ignored "-Wunused-const-variable"
#pragma GCC diagnostic ignored "-Wunused-variable"
#define ACT(n) (act_ = ACT_##n)
#define TO(n) (to_ = TO_##n)
#define ACT_create TASK_A_CREATE
#define ACT_start TASK_A_START
#define ACT_kill TASK_A_KILL
#define ACT_pause TASK_A_PAUSE
#define ACT_resume TASK_A_RESUME
#define ACT_update TASK_A_UPDATE
#define ACT_delete TASK_A_DELETE
#define TO_creating TASK_S_CREATING
#define TO_created TASK_S_CREATED
#define TO_starting TASK_S_STARTING
#define TO_running TASK_S_RUNNING
#define TO_pausing TASK_S_PAUSING
#define TO_paused TASK_S_PAUSED
#define TO_resuming TASK_S_RESUMING
#define TO_stopped TASK_S_STOPPED
#define TO_deleting TASK_S_DELETING
#define TO_deleted TASK_S_DELETED


static const char _task_actions[] = {
	0, 1, 0, 1, 1, 1, 2, 1, 
	3, 1, 4, 1, 5, 1, 6, 1, 
	7, 1, 8, 1, 9, 1, 10, 1, 
	11, 1, 12, 1, 13, 1, 14, 1, 
	15, 1, 16
};

static const char _task_key_offsets[] = {
	0, 0, 1, 3, 8, 10, 15, 17, 
	22, 24, 25, 27
};

static const unsigned char _task_trans_keys[] = {
	1u, 10u, 11u, 2u, 3u, 7u, 8u, 9u, 
	10u, 11u, 3u, 4u, 6u, 8u, 9u, 10u, 
	11u, 3u, 5u, 6u, 8u, 9u, 10u, 11u, 
	7u, 10u, 11u, 0
};

static const char _task_single_lengths[] = {
	0, 1, 2, 3, 2, 3, 2, 3, 
	2, 1, 2, 0
};

static const char _task_range_lengths[] = {
	0, 0, 0, 1, 0, 1, 0, 1, 
	0, 0, 0, 0
};

static const char _task_index_offsets[] = {
	0, 0, 2, 5, 10, 13, 18, 21, 
	26, 29, 31, 34
};

static const char _task_indicies[] = {
	0, 1, 2, 3, 1, 4, 5, 6, 
	7, 1, 8, 7, 1, 9, 10, 11, 
	7, 1, 12, 8, 1, 13, 14, 15, 
	7, 1, 8, 12, 1, 6, 1, 3, 
	7, 1, 1, 0
};

static const char _task_trans_targs[] = {
	2, 0, 3, 11, 4, 3, 10, 9, 
	5, 5, 6, 5, 7, 7, 8, 7
};

static const char _task_trans_actions[] = {
	1, 0, 0, 0, 3, 5, 13, 0, 
	0, 5, 7, 11, 0, 5, 9, 11
};

static const char _task_to_state_actions[] = {
	0, 0, 15, 17, 19, 21, 23, 25, 
	27, 29, 31, 33
};

static const int task_start = 1;
static const int task_first_final = 12;
static const int task_error = 0;

static const int task_en_main = 1;




/* Run Ragel's machine from Ragel state `cs` over one event symbol. */
static int run(int cs, int event, int *act, int *to)
{
	unsigned char sym = (unsigned char)event;
	const unsigned char *p = &sym, *pe = p + 1;
	int act_ = WR_LC_NO_ACTION, to_ = -1;
	
	{
	int _klen;
	unsigned int _trans;
	const char *_acts;
	unsigned int _nacts;
	const unsigned char *_keys;

	if ( p == pe )
		goto _test_eof;
	if ( cs == 0 )
		goto _out;
_resume:
	_keys = _task_trans_keys + _task_key_offsets[cs];
	_trans = _task_index_offsets[cs];

	_klen = _task_single_lengths[cs];
	if ( _klen > 0 ) {
		const unsigned char *_lower = _keys;
		const unsigned char *_mid;
		const unsigned char *_upper = _keys + _klen - 1;
		while (1) {
			if ( _upper < _lower )
				break;

			_mid = _lower + ((_upper-_lower) >> 1);
			if ( (*p) < *_mid )
				_upper = _mid - 1;
			else if ( (*p) > *_mid )
				_lower = _mid + 1;
			else {
				_trans += (unsigned int)(_mid - _keys);
				goto _match;
			}
		}
		_keys += _klen;
		_trans += _klen;
	}

	_klen = _task_range_lengths[cs];
	if ( _klen > 0 ) {
		const unsigned char *_lower = _keys;
		const unsigned char *_mid;
		const unsigned char *_upper = _keys + (_klen<<1) - 2;
		while (1) {
			if ( _upper < _lower )
				break;

			_mid = _lower + (((_upper-_lower) >> 1) & ~1);
			if ( (*p) < _mid[0] )
				_upper = _mid - 2;
			else if ( (*p) > _mid[1] )
				_lower = _mid + 2;
			else {
				_trans += (unsigned int)((_mid - _keys)>>1);
				goto _match;
			}
		}
		_trans += _klen;
	}

_match:
	_trans = _task_indicies[_trans];
	cs = _task_trans_targs[_trans];

	if ( _task_trans_actions[_trans] == 0 )
		goto _again;

	_acts = _task_actions + _task_trans_actions[_trans];
	_nacts = (unsigned int) *_acts++;
	while ( _nacts-- > 0 )
	{
		switch ( *_acts++ )
		{
	case 0:
	{ ACT(create); }
	break;
	case 1:
	{ ACT(start); }
	break;
	case 2:
	{ ACT(kill); }
	break;
	case 3:
	{ ACT(pause); }
	break;
	case 4:
	{ ACT(resume); }
	break;
	case 5:
	{ ACT(update); }
	break;
	case 6:
	{ ACT(delete); }
	break;
		}
	}

_again:
	_acts = _task_actions + _task_to_state_actions[cs];
	_nacts = (unsigned int) *_acts++;
	while ( _nacts-- > 0 ) {
		switch ( *_acts++ ) {
	case 7:
	{ TO(creating); }
	break;
	case 8:
	{ TO(created); }
	break;
	case 9:
	{ TO(starting); }
	break;
	case 10:
	{ TO(running); }
	break;
	case 11:
	{ TO(pausing); }
	break;
	case 12:
	{ TO(paused); }
	break;
	case 13:
	{ TO(resuming); }
	break;
	case 14:
	{ TO(stopped); }
	break;
	case 15:
	{ TO(deleting); }
	break;
	case 16:
	{ TO(deleted); }
	break;
		}
	}

	if ( cs == 0 )
		goto _out;
	if ( ++p != pe )
		goto _resume;
	_test_eof: {}
	_out: {}
	}

	*act = act_;
	*to = to_;
	return cs;
}

/* Filled by wr_lc_step() on first use (src/core/lifecycle.c). */
static int cs_of[TASK_N_STATES] = { -1 };

static const char *const state_names[] = {"absent", "creating", "created", "starting", "running", "pausing", "paused", "resuming", "stopped", "deleting", "deleted"};
static const char *const event_names[] = {"(none)", "Create", "Start", "Kill", "Pause", "Resume", "Update", "Delete", "Exit", "Lost", "Done", "Failed"};
static const char *const action_names[] = {"create", "start", "kill", "pause", "resume", "update", "delete"};
static const bool transient[] = {false, true, false, true, false, true, false, true, false, true, false};
static const bool terminal[] = {false, false, false, false, false, false, false, false, false, false, true};

/* The chart as the generator read it, independently of Ragel. */
static const struct wr_transition model[] = {
	{ TASK_S_ABSENT, TASK_E_CREATE, TASK_A_CREATE, TASK_S_CREATING },
	{ TASK_S_CREATING, TASK_E_DONE, WR_LC_NO_ACTION, TASK_S_CREATED },
	{ TASK_S_CREATING, TASK_E_FAILED, WR_LC_NO_ACTION, TASK_S_DELETED },
	{ TASK_S_CREATED, TASK_E_START, TASK_A_START, TASK_S_STARTING },
	{ TASK_S_CREATED, TASK_E_KILL, TASK_A_KILL, TASK_S_CREATED },
	{ TASK_S_CREATED, TASK_E_DELETE, TASK_A_DELETE, TASK_S_DELETING },
	{ TASK_S_CREATED, TASK_E_EXIT, WR_LC_NO_ACTION, TASK_S_STOPPED },
	{ TASK_S_CREATED, TASK_E_LOST, WR_LC_NO_ACTION, TASK_S_STOPPED },
	{ TASK_S_STARTING, TASK_E_DONE, WR_LC_NO_ACTION, TASK_S_RUNNING },
	{ TASK_S_STARTING, TASK_E_FAILED, WR_LC_NO_ACTION, TASK_S_STOPPED },
	{ TASK_S_RUNNING, TASK_E_KILL, TASK_A_KILL, TASK_S_RUNNING },
	{ TASK_S_RUNNING, TASK_E_PAUSE, TASK_A_PAUSE, TASK_S_PAUSING },
	{ TASK_S_RUNNING, TASK_E_UPDATE, TASK_A_UPDATE, TASK_S_RUNNING },
	{ TASK_S_RUNNING, TASK_E_EXIT, WR_LC_NO_ACTION, TASK_S_STOPPED },
	{ TASK_S_RUNNING, TASK_E_LOST, WR_LC_NO_ACTION, TASK_S_STOPPED },
	{ TASK_S_PAUSING, TASK_E_DONE, WR_LC_NO_ACTION, TASK_S_PAUSED },
	{ TASK_S_PAUSING, TASK_E_FAILED, WR_LC_NO_ACTION, TASK_S_RUNNING },
	{ TASK_S_PAUSED, TASK_E_RESUME, TASK_A_RESUME, TASK_S_RESUMING },
	{ TASK_S_PAUSED, TASK_E_KILL, TASK_A_KILL, TASK_S_PAUSED },
	{ TASK_S_PAUSED, TASK_E_UPDATE, TASK_A_UPDATE, TASK_S_PAUSED },
	{ TASK_S_PAUSED, TASK_E_EXIT, WR_LC_NO_ACTION, TASK_S_STOPPED },
	{ TASK_S_PAUSED, TASK_E_LOST, WR_LC_NO_ACTION, TASK_S_STOPPED },
	{ TASK_S_RESUMING, TASK_E_DONE, WR_LC_NO_ACTION, TASK_S_RUNNING },
	{ TASK_S_RESUMING, TASK_E_FAILED, WR_LC_NO_ACTION, TASK_S_PAUSED },
	{ TASK_S_STOPPED, TASK_E_DELETE, TASK_A_DELETE, TASK_S_DELETING },
	{ TASK_S_DELETING, TASK_E_DONE, WR_LC_NO_ACTION, TASK_S_DELETED },
	{ TASK_S_DELETING, TASK_E_FAILED, WR_LC_NO_ACTION, TASK_S_STOPPED },
};

const struct wr_lifecycle wr_lifecycle_task = {
	.name = "task",
	.n_states = TASK_N_STATES,
	.n_events = TASK_N_EVENTS,
	.n_actions = TASK_N_ACTIONS,
	.state_names = state_names,
	.event_names = event_names,
	.action_names = action_names,
	.transient = transient,
	.terminal = terminal,
	.initial = TASK_S_ABSENT,
	.ev_done = TASK_E_DONE,
	.ev_failed = TASK_E_FAILED,
	.run = run,
	.start_cs = task_start,
	.error_cs = task_error,
	.cs_of = cs_of,
	.model = model,
	.n_model = 27,
};
